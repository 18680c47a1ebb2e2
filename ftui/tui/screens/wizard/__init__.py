"""One thin screen per wizard step: it composes widgets and routes messages."""
