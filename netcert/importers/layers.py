"""Dense layers and affine forms as an exact netcert network: the one place a trained network
becomes a graph.

A trained network is read as *affine forms*: every value a layer computes is
``const + sum_r coef_r * value(r)`` over the inputs and the neurons built so far, with exact
rational coefficients. Linear steps (a dense layer, a convolution, a batch normalization) only
compose forms; a ReLU, a leaky ReLU or a threshold turns each form of a tensor into one neuron
whose incoming weights are the form's coefficients and whose bias is its constant. The last
forms become the output neurons. ``from_layers`` (numpy weights), ``importers.sklearn`` and
``importers.onnx`` all build through ``Builder``, so the same weights give the same graph, with
the same node names, whichever route they came by.

Numbers: an integer is itself, a float (float16, float32, float64, longdouble) the exact dyadic
rational it stores (``float.as_integer_ratio``, never rounded); NaN and infinity are refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

import networkx as nx
import numpy as np

from netcert import limits
from netcert.errors import InputError, NumberError, UsageError
from netcert.exact import Rat, float_to_rat, format_rational, mpq, parse_rational, to_rat
from netcert.ir import keys
from netcert.ir import network as net

ZERO = mpq(0)
ONE = mpq(1)

NEURON_ACTIVATIONS = (keys.RELU, keys.LEAKY_RELU, keys.THRESHOLD, keys.IDENTITY)
"""What a layer may apply: the activations of the network format whose value is exact."""


# ---------------------------------------------------------------- exact numbers


def exact(value: object, what: str) -> Rat:
    """The exact rational of one scalar: an integer, an exact rational, or the dyadic a float stores."""
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{what}: a boolean is not a number")
    if isinstance(value, np.integer):
        return mpq(int(value))
    if isinstance(value, np.longdouble) and np.finfo(np.longdouble).nmant > 52:
        if not np.isfinite(value):
            raise InputError(f"{what}: {value} has no exact value (NaN or infinity)")
        num, den = value.as_integer_ratio()
        return mpq(num, den)
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            raise InputError(f"{what}: {value} has no exact value (NaN or infinity)")
        return float_to_rat(float(value))  # widening float16/float32 to float64 is exact
    if isinstance(value, (int, Fraction, Rat)) or type(value).__name__ == "mpz":
        return to_rat(value)
    raise InputError(f"{what}: not a number ({type(value).__name__})")


def exact_array(values: object, what: str) -> np.ndarray:
    """An array of exact rationals (dtype object, elements ``mpq``) of the same shape as ``values``.

    Each distinct stored value is converted once: trained weights repeat (zeros, quantized
    values), and the conversion, not the lookup, is what costs.
    """
    array = np.asarray(values)
    if array.dtype.kind in "USVOMmc" and array.dtype != object:
        raise InputError(f"{what}: not numbers (dtype {array.dtype})")
    if array.dtype.kind == "b":
        raise InputError(f"{what}: booleans are not weights")
    if array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            index = tuple(int(i) for i in np.argwhere(bad)[0])
            raise InputError(f"{what}{list(index)}: {array[index]} has no exact value (NaN or infinity)")
    out = np.empty(array.shape, dtype=object)
    seen: dict = {}
    for index, value in np.ndenumerate(array):
        key = (type(value), value) if array.dtype == object else value
        try:
            q = seen.get(key)
        except TypeError:  # an unhashable element: converted without the memo
            q = None
        if q is None:
            q = exact(value, f"{what}{list(index)}")
            try:
                seen[key] = q
            except TypeError:
                pass
        out[index] = q
    return out


def label_string(value: object, what: str) -> str:
    """A class label as the canonical exact string the network format keeps (specs/README.md 3.1)."""
    if isinstance(value, (str, np.str_)):
        try:
            if format_rational(parse_rational(str(value))) == value:  # already the canonical string
                return str(value)
        except NumberError:
            pass
        raise InputError(
            f"{what}: the class label {str(value)!r:.40} is not a number; netcert's labels are exact numbers "
            "(give the classes as numbers, e.g. --classes 0,1,2, with the dataset's labels mapped alike)"
        )
    return str(exact(value, what))


# ---------------------------------------------------------------- affine forms


@dataclass(frozen=True, eq=False)
class Form:
    """const + sum over ``terms`` of coef * value(ref): one value of a layer, exactly.

    ``terms`` maps a reference (an input or a neuron of the ``Builder``) to a nonzero ``mpq``.
    Forms support the linear operations (+, -, scaling by an exact number), so a numpy object
    array of forms is a symbolic tensor that numpy's broadcasting rules apply to.
    """

    terms: dict
    const: Rat

    def __add__(self, other: object) -> Form:
        if isinstance(other, Form):
            return combine(((self, ONE), (other, ONE)))
        return Form(self.terms, self.const + _scalar(other))

    __radd__ = __add__

    def __neg__(self) -> Form:
        return self.scaled(-ONE)

    def __sub__(self, other: object) -> Form:
        if isinstance(other, Form):
            return combine(((self, ONE), (other, -ONE)))
        return Form(self.terms, self.const - _scalar(other))

    def __rsub__(self, other: object) -> Form:
        return Form({r: -c for r, c in self.terms.items()}, _scalar(other) - self.const)

    def __mul__(self, other: object) -> Form:
        if isinstance(other, Form):
            raise TypeError("the product of two values that depend on the input is not piecewise linear")
        return self.scaled(_scalar(other))

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Form:
        if isinstance(other, Form):
            raise TypeError("a quotient by a value that depends on the input is not piecewise linear")
        c = _scalar(other)
        if c == 0:
            raise ZeroDivisionError("division by zero")
        return self.scaled(ONE / c)

    def scaled(self, c: Rat) -> Form:
        """c * self; the zero form when c = 0 (no term may have a zero coefficient)."""
        if c == 0:
            return Form({}, ZERO)
        return Form({r: c * w for r, w in self.terms.items()}, c * self.const)

    def same(self, other: Form) -> bool:
        """The same affine function of the references (the dict order does not matter)."""
        return self.const == other.const and self.terms == other.terms

    def is_atom(self) -> bool:
        """Exactly one reference with coefficient 1 and no constant: a node's value itself."""
        return self.const == 0 and len(self.terms) == 1 and next(iter(self.terms.values())) == 1


def _scalar(value: object) -> Rat:
    return value if isinstance(value, Rat) else to_rat(value)


def constant(c: object) -> Form:
    return Form({}, _scalar(c))


def combine(pairs: Iterable[tuple[Form, Rat]], const: Rat = ZERO) -> Form:
    """const + sum c * f over ``pairs``, with the coefficients that cancel to 0 dropped."""
    terms: dict = {}
    total = const
    for f, c in pairs:
        if c == 0:
            continue
        total += c * f.const
        for r, w in f.terms.items():
            terms[r] = terms.get(r, ZERO) + c * w
    return Form({r: w for r, w in terms.items() if w != 0}, total)


def as_form(value: object) -> Form:
    return value if isinstance(value, Form) else constant(value)


# ---------------------------------------------------------------- the builder


class Builder:
    """The neurons of one network, built layer by layer from forms.

    A neuron's layer is one more than the deepest node any form of its tensor reads (a whole
    tensor goes into one layer, so a dense network comes out layered even where a row of weights
    is all zeros). Node names are given at the end, by layer, in the order the neurons were made:
    inputs ``x[j]``, hidden neurons ``h<layer>[k]``, outputs ``out[k]``, each index zero-padded to
    its layer's width so that names sort as numbers do.
    """

    def __init__(self, d: int) -> None:
        if d < 1:
            raise InputError("a network needs at least one input")
        self.d = d
        self.layer: list[int] = [0] * d  # by reference: inputs are 0..d-1, neurons d, d+1, ...
        self.activation: list[str] = [keys.INPUT] * d
        self.slope: list[Rat | None] = [None] * d
        self.form: list[Form | None] = [None] * d
        self.terms = 0  # edges made so far, held to the values limit

    def inputs(self) -> list[Form]:
        """The forms of the inputs, coordinate j first."""
        return [Form({j: ONE}, ZERO) for j in range(self.d)]

    def depth_of(self, forms: Iterable[Form]) -> int:
        """The deepest layer the forms read (0 for inputs and constants)."""
        layer = self.layer
        return max((layer[r] for f in forms for r in f.terms), default=0)

    def neurons(self, forms: Sequence[Form], activation: str, slope: Rat | None = None) -> list[Form]:
        """One neuron act(form) per form, all in one new layer; their values as atom forms."""
        if activation not in NEURON_ACTIVATIONS:
            raise UsageError(f"unknown activation {activation!r} (known: {', '.join(NEURON_ACTIVATIONS)})")
        if (activation == keys.LEAKY_RELU) != (slope is not None):
            raise UsageError("a leaky_relu layer needs a slope, and only a leaky_relu layer has one")
        layer = self.depth_of(forms) + 1
        if layer > limits.LAYER.value():
            raise InputError(limits.LAYER.exceeded("layer", layer))
        out = []
        for f in forms:
            self._count(len(f.terms))
            ref = len(self.layer)
            self.layer.append(layer)
            self.activation.append(activation)
            self.slope.append(slope)
            self.form.append(f)
            out.append(Form({ref: ONE}, ZERO))
        return out

    def _count(self, k: int) -> None:
        self.terms += k
        if self.terms > limits.VALUES.value():
            raise InputError(limits.VALUES.exceeded("weights of the imported network", f"more than {self.terms}"))

    def linear(
        self, forms: Sequence[Form], rows: Sequence[Sequence[tuple[int, Rat]]], bias: Sequence[Rat]
    ) -> list[Form]:
        """out[j] = bias[j] + sum over (i, c) in rows[j] of c * forms[i].

        When composing would cost more weights than it saves (a linear layer on forms that are
        not plain node values, as in two dense layers without an activation between), the forms
        are first made identity neurons: the composed rows could hold up to |rows| * |forms|
        weights where the two layers hold |forms| + nnz(rows).
        """
        if not all(f.is_atom() or not f.terms for f in forms):
            composed = sum(len(forms[i].terms) for row in rows for i, _ in row)
            kept = sum(len(f.terms) for f in forms) + sum(len(row) for row in rows)
            if composed > kept:
                forms = self.neurons(forms, keys.IDENTITY)
        return [combine(((forms[i], c) for i, c in row), _scalar(b)) for row, b in zip(rows, bias, strict=True)]

    def network(
        self,
        outputs: Sequence[Form],
        *,
        classes: Sequence[object] | None = None,
        dropped: str | None = None,
    ) -> nx.DiGraph:
        """The graph: the neurons made so far and one output per form (in order).

        Outputs that are each exactly one distinct neuron of the deepest layer made so far are
        those neurons; any other outputs are identity neurons on top. A classifier with two
        outputs of opposite value (-f, f), such as the [1 - p, p] of a logistic classifier, is
        kept as its single output f with the classes [neg, pos]: the same predictions, ties
        included, as the format wants a binary classifier (specs/README.md 3.1).
        """
        outputs = [as_form(f) for f in outputs]
        if not outputs:
            raise InputError("the network has no outputs")
        labels = None
        if classes is not None:
            labels = [label_string(c, "classes") for c in classes]
            if len(outputs) == 2 and outputs[0].same(-outputs[1]):
                outputs = outputs[1:]
            expected = 2 if len(outputs) == 1 else len(outputs)
            if len(labels) != expected:
                raise UsageError(f"{len(labels)} classes given for {len(outputs)} outputs ({expected} expected)")
            if len(set(labels)) != len(labels):
                raise UsageError(f"the classes are not distinct: {', '.join(labels)}")
        out_refs = self._output_refs(outputs)
        names = self._names(out_refs)
        G = net.new_network([names[j] for j in range(self.d)])
        for ref in range(self.d, len(self.layer)):
            form = self.form[ref]
            assert form is not None
            net.add_neuron(
                G,
                names[ref],
                layer=self.layer[ref],
                activation=self.activation[ref],
                bias=form.const,
                incoming=((names[r], w) for r, w in form.terms.items()),
                slope=self.slope[ref],
            )
        net.set_outputs(G, [names[r] for r in out_refs])
        if labels is not None:
            net.set_classes(G, labels, dropped)
        elif dropped is not None:
            raise UsageError(f"a dropped {dropped} needs classes")
        return G

    def _output_refs(self, outputs: list[Form]) -> list[int]:
        top = max(self.layer)
        refs = [next(iter(f.terms)) if f.is_atom() else None for f in outputs]
        direct = top > 0 and all(r is not None and self.layer[r] == top for r in refs) and len(set(refs)) == len(refs)
        if direct:
            return [r for r in refs if r is not None]
        return [next(iter(f.terms)) for f in self.neurons(outputs, keys.IDENTITY)]  # one layer for all

    def _names(self, out_refs: list[int]) -> dict[int, str]:
        """Reference -> node name: inputs x[j], outputs out[k], the others h<layer>[k]."""
        outs = {r: k for k, r in enumerate(out_refs)}
        by_layer: dict[int, list[int]] = {}
        for ref in range(self.d, len(self.layer)):
            if ref not in outs:
                by_layer.setdefault(self.layer[ref], []).append(ref)
        names = {j: f"x[{j:0{_pad(self.d)}d}]" for j in range(self.d)}
        names.update({r: f"out[{k:0{_pad(len(outs))}d}]" for r, k in outs.items()})
        for layer, refs in by_layer.items():
            names.update({r: f"h{layer}[{k:0{_pad(len(refs))}d}]" for k, r in enumerate(refs)})
        return names


def _pad(count: int) -> int:
    return len(str(max(count - 1, 0)))


# ---------------------------------------------------------------- dense layers


Layer = tuple  # (W, b, activation) or (W, b, "leaky_relu", slope)


def from_layers(
    layers: Sequence[Layer],
    *,
    classes: Sequence[object] | None = None,
    dropped: str | None = None,
) -> nx.DiGraph:
    """The exact network of a stack of dense layers: layer l maps v to act_l(W_l v + b_l).

    Each layer is ``(W, b, activation)``, or ``(W, b, "leaky_relu", slope)``; ``W`` has shape
    (outputs, inputs), as PyTorch's ``nn.Linear.weight`` (scikit-learn's ``coefs_[l]`` is its
    transpose), ``b`` shape (outputs,) or None for zeros; the activation is one of ``relu``,
    ``leaky_relu``, ``threshold``, ``identity``. The last layer's values are the outputs.
    ``classes`` (one label per output, or [neg, pos] for one output) makes it a classifier;
    ``dropped`` ("softmax" or "sigmoid") records a final map removed from its scores.
    """
    if not layers:
        raise UsageError("from_layers needs at least one layer")
    builder: Builder | None = None
    forms: list[Form] = []
    for l, layer in enumerate(layers, start=1):
        W, b, activation, slope = _unpack(layer, l)
        where = f"layer {l}"
        weights = exact_array(W, f"{where} W")
        if weights.ndim != 2:
            raise InputError(f"{where}: W must be a matrix (outputs x inputs), got shape {weights.shape}")
        if builder is None:
            builder = Builder(weights.shape[1])
            forms = builder.inputs()
        if weights.shape[1] != len(forms):
            raise InputError(
                f"{where}: W has {weights.shape[1]} columns for {len(forms)} inputs "
                "(W is outputs x inputs, as torch's Linear.weight; transpose scikit-learn's coefs_)"
            )
        bias = exact_array(np.zeros(weights.shape[0], dtype=np.int64) if b is None else b, f"{where} b")
        if bias.shape != (weights.shape[0],):
            raise InputError(f"{where}: b has shape {bias.shape}, W has {weights.shape[0]} rows")
        rows = [[(i, w) for i, w in enumerate(row) if w != 0] for row in weights]
        forms = builder.linear(forms, rows, list(bias))
        forms = apply_activation(builder, forms, activation, slope, where)
    assert builder is not None
    return builder.network(forms, classes=classes, dropped=dropped)


def apply_activation(builder: Builder, forms: list[Form], activation: str, slope: object, where: str) -> list[Form]:
    """The forms after an elementwise activation: an identity leaves them as they are (a
    linear map composes with the next one), the others make a layer of neurons."""
    if activation not in NEURON_ACTIVATIONS:
        raise UsageError(f"{where}: unknown activation {activation!r} (known: {', '.join(NEURON_ACTIVATIONS)})")
    if activation == keys.IDENTITY:
        return forms
    return builder.neurons(forms, activation, None if slope is None else exact(slope, f"{where} slope"))


def _unpack(layer: object, l: int) -> tuple[object, object, str, object]:
    if not isinstance(layer, (tuple, list)) or len(layer) not in (3, 4):
        raise UsageError(f"layer {l}: expected (W, b, activation) or (W, b, 'leaky_relu', slope)")
    W, b, activation = layer[0], layer[1], layer[2]
    slope = layer[3] if len(layer) == 4 else None
    if activation == keys.LEAKY_RELU and slope is None:
        raise UsageError(f"layer {l}: a leaky_relu layer is (W, b, 'leaky_relu', slope)")
    if activation != keys.LEAKY_RELU and slope is not None:
        raise UsageError(f"layer {l}: only a leaky_relu layer has a slope")
    return W, b, str(activation), slope
