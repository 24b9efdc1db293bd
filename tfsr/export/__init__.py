"""Deployment: TFLite (float, float16, dynamic, int8 PTQ, int8 QAT) and SavedModels for TF Serving."""
