"""Poses from photos: MediaPipe Holistic landmarks mapped to OpenPose keypoints (optional extra `[pose]`)."""
