"""Developer tools (fixtures, MGSM prompts, a fake hub, the transformers reference); lite/ never imports them."""
