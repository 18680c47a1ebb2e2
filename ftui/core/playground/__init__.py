"""After a run: loading the model for chat, sessions, side-by-side compare, export."""
