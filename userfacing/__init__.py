"""What the libraries and the platform share about talking to people: the base class of
every error a user can act on. Imports neither Django nor the platform."""
