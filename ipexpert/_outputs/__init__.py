"""An outline for a reader: terminal text and Markdown, the HTML report and its PDF."""
