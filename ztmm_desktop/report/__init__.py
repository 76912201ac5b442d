"""The reportlab PDF report and its charts."""
