from . import mcp
