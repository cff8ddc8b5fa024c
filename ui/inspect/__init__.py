"""Looking inside a trained model with one input: the Draw panel (a digit drawn with the mouse, prepared as MNIST
was, read live by the model) and one unit of one prediction (its inputs, weights, sum, activation and gradient).
The numbers come from the engine (:mod:`dllab.digit_input`, :mod:`dllab.unit_inspection`); these widgets show
them."""
