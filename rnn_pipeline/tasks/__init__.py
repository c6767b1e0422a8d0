"""One folder per task (keras-hub's folder per model family): each owns its config,
data, head, workflow and serving module; the shared machinery stays horizontal."""
