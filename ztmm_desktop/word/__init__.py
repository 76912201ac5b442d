"""The Word report (python-docx): the same snapshot as the PDF, as an editable ``.docx`` on a firm's template."""
