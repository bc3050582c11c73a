"""lossc's searches on a Ray cluster: `lossc-ray search|search-params` loops lossc's ask ->
one Ray task per candidate -> tell, with the lossc checkpoint as the only state."""
from .driver import drive
from .lossc import Run

__all__ = ["Run", "drive"]
