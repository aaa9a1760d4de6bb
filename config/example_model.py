"""The model of config/example-own-model.yaml: a small ResNet for 32x32 colour images.

Built from torchvision's ResNet ``BasicBlock`` (He et al. 2016, "Deep residual learning for
image recognition"), the CIFAR-style stem (3x3 convolution, no max pooling) and three
stages of one block each at ``width``, 2 x ``width`` and 4 x ``width`` channels (strides 1, 2,
2), then global average pooling, dropout and a linear classifier. It maps images in [0, 1]
(normalised by the workflow, ``normalize`` in the config) to logits. Any module of yours
written like this one works: ``arch: {factory: "path/to/file.py:function", kwargs: {...}}``.
"""

from torch import nn
from torchvision.models.resnet import BasicBlock


def _stage(in_channels: int, out_channels: int, stride: int) -> BasicBlock:
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(out_channels))
    return BasicBlock(in_channels, out_channels, stride=stride, downsample=downsample)


def small_resnet(num_classes: int = 10, width: int = 16, dropout: float = 0.2) -> nn.Module:
    """The factory named in the config (its kwargs are this function's arguments)."""
    return SmallResNet(num_classes, width, dropout)


class SmallResNet(nn.Module):
    """Modules: stem, layer1, layer2, layer3 (residual stages), pool, dropout, fc (logits)."""

    def __init__(self, num_classes: int, width: int, dropout: float):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                                  nn.ReLU(inplace=True))
        self.layer1 = _stage(width, width, 1)
        self.layer2 = _stage(width, 2 * width, 2)
        self.layer3 = _stage(2 * width, 4 * width, 2)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(4 * width, num_classes)
        for m in self.modules():  # torchvision's ResNet initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(self.dropout(self.pool(x)))
