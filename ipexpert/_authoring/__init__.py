"""The consultant's workbench: rules check, rule descriptions, reference-fact sources, YAML test cases."""
