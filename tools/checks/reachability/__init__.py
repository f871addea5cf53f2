"""A static network-reachability model of the synthesized platform (`make reachability`).

network.py reads one environment's virtual networks, peerings, NAT gateways, private endpoints, private DNS zones
and their links from cdktf.out/ (through tools/synth_output.py); public.py each resource's public side;
sources.py where each caller runs; rules.py decides, citing Microsoft Learn, whether a call resolves and routes;
flows.py evaluates the required flows of flows.yaml; report.py writes docs/reachability.md.
"""
