"""Pure tensor functions behind the transforms (no nn.Module state)."""
