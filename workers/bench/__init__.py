"""`haodian bench`: end-to-end throughput and latency against a bare baseline, same run."""
