"""One thin screen per wizard step (composes widgets, routes messages), plus modals."""
