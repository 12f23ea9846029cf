"""Everything that executes candidate code lives here, and only here."""
