"""From a run to advice: the outline assembled and justified, explanations of a conclusion, differences between outlines."""
