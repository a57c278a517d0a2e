"""What every part of Veritalk shares, libraries and platform alike: the user-facing
error base (common.errors), file hashing (common.files) and polling until a deadline
(common.polling). Imports neither Django, the platform nor any of the libraries."""
