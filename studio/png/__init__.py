"""Reading generation settings back from PNGs (the studio's own and other tools')."""
