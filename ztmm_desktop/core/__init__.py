"""Pure domain: catalog model, stages, scoring, roadmap. No Qt, no SQL."""
