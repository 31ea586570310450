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

FORMAT_NAME = "netcert.network"
FORMAT_VERSION = 1

# Node attributes.
LAYER = "layer"
ACTIVATION = "activation"
BIAS = "bias"

# Edge attributes.
WEIGHT = "weight"

# Activation values.
INPUT = "input"
RELU = "relu"
THRESHOLD = "threshold"
IDENTITY = "identity"
ACTIVATIONS = (INPUT, RELU, THRESHOLD, IDENTITY)
