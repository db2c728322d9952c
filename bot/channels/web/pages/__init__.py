"""What each dashboard page shows, built from the store in one read-only session: plain values
for the templates, every figure from the functions the chat answers and reports use."""
