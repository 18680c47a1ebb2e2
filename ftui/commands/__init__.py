"""One module per area of the command line; each defines `register(subparsers)`."""
