"""Reading a firm profile: YAML with line marks, JSON Schema checks, market codes, the profile, its facts."""
