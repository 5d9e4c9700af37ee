"""The guided interview: the question engine, its words in each language, the web and terminal faces, what it hands over."""
