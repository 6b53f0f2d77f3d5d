"""The core of the product: no Flask, no HTTP; shared by the web app, the CLI and the scheduler."""
