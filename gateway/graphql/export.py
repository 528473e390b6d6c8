"""Write the schema's SDL: `python -m gateway.graphql.export > schema.graphql`."""

from __future__ import annotations

import sys

from gateway.graphql.schema import export_sdl

if __name__ == "__main__":
    sys.stdout.write(export_sdl())
