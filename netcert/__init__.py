"""netcert: compile memorization theorems into exact networks and certify them.

Pipeline (each arrow a function, data flows one way)::

    dataset file --dataset.load--> Dataset
    Dataset --constructions.<name>.build--> network (networkx DiGraph)
    network --formats.netjson.write--> net.json
    net.json + dataset --verify.verify--> Certificate (fast evaluator + kernel)
    Certificate --formats.certjson.write--> *.cert.json
"""

__version__ = "0.1.0"
