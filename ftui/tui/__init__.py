"""The Textual app: a view over ftui.core. Nothing here trains or imports torch at import time."""
