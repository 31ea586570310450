"""Every attribute key and value of the network IR, in one place.

The IR is a ``networkx.DiGraph`` laid out as ``specs/README.md`` section 3 says; no other
module spells these strings.
"""

# Graph attributes.
FORMAT = "format"
VERSION = "version"
INPUTS = "inputs"
OUTPUTS = "outputs"
CONSTRUCTION = "construction"  # {name, options, reference}
DATASET = "dataset"  # digest of the dataset the network was built for
CLASSES = "classes"  # the class label of each output (two labels, [neg, pos], for one output)
DROPPED = "dropped"  # the final monotone map an importer removed from a classifier's scores

FORMAT_NAME = "netcert.network"
FORMAT_VERSION = 1

# Node attributes.
LAYER = "layer"
ACTIVATION = "activation"
BIAS = "bias"
SLOPE = "slope"  # a leaky_relu's slope for z < 0, and no other activation's

# Edge attributes.
WEIGHT = "weight"

# Activation values.
INPUT = "input"
RELU = "relu"
THRESHOLD = "threshold"
IDENTITY = "identity"
LEAKY_RELU = "leaky_relu"  # z if z >= 0 else slope * z: exact on rationals, unlike tanh or sigmoid
ACTIVATIONS = (INPUT, RELU, THRESHOLD, IDENTITY, LEAKY_RELU)

# Values of graph["dropped"]: monotone maps that leave the largest score (and the sign of a
# single score against the threshold 0 of its logit) where it was.
SOFTMAX = "softmax"
SIGMOID = "sigmoid"
DROPPABLE = (SOFTMAX, SIGMOID)
