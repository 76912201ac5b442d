"""openpyxl workbooks: the client deliverable, the questionnaire and its import."""
