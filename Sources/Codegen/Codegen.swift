import LossDSL

/// Backends that turn a `CompiledLoss` into fast code: Swift closures and C kernels.
public enum Codegen {
    /// The version of the code generators (part of native-build cache keys).
    public static let version = "0.1.0"
}
