"""The Streamlit page of the toe-twitching model (``streamlit run ui/app.py``)."""
