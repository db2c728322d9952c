"""Issue 13 in the bot layer: the dispatcher's withdraw / explain steps and the notice a submitter
gets when someone else withdrew their file."""
