"""The optimizer playground: optimizers racing on 2D test functions."""
