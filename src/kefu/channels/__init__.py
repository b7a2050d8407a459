"""Where buyers write from. The web chat widget for now; e-mail and WeChat join later."""
