//! UI state, keymap, layers and the terminal event loop.
