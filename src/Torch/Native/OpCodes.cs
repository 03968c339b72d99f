namespace Orleans.MoE.Torch.Native;

// Mirrors of the op-code enums in native/include/moe_native.h; the numbering must match.

internal enum UnaryOp
{
    Neg = 0, Exp, Log, Sqrt, Rsqrt, Abs, Relu, Gelu, Silu, Sigmoid, Tanh, Contiguous, Clone, Detach,
    LogicalNot, Sin, Cos, Square, Sign, Floor, OnesLike, ZerosLike, Nonzero, Log1p, Reciprocal, GeluTanh, IsFinite,
}

internal enum BinaryOp
{
    Add = 0, Sub, Mul, Div, Matmul, Bmm, Pow, Maximum, Minimum, Eq, Ne, Lt, Le, Gt, Ge, LogicalAnd, LogicalOr,
    Remainder, FloorDivide, Mm,
}

internal enum ScalarOp
{
    Add = 0, Sub, Mul, Div, Pow, RSub, RDiv, Eq, Ne, Lt, Le, Gt, Ge, Remainder, FloorDivide,
}

internal enum ReduceOp { Sum = 0, Mean, Amax, Amin, LogSumExp }

internal enum ShapeOp
{
    View = 0, Reshape, Expand, Permute, Transpose, Squeeze, Unsqueeze, Flatten, Narrow, Select, Slice, Repeat,
    Tril, Triu, Cumsum, OneHot, RepeatInterleave,
}

internal enum InPlaceOp { Zero = 0, Fill, Copy, Add, MulScalar }

internal enum RandomKind { Normal = 0, Uniform = 1 }
