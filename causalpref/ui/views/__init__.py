"""What each dashboard page shows, computed without streamlit."""
