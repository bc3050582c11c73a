// swift-tools-version:6.0
import PackageDescription

// lossc has no package dependencies: only the Swift toolchain and the system C compiler.
let package = Package(
    name: "lossc",
    products: [
        .library(name: "LossDSL", targets: ["LossDSL"]),
        .library(name: "Codegen", targets: ["Codegen"]),
        .library(name: "LossSearch", targets: ["LossSearch"]),
        .executable(name: "lossc", targets: ["lossc"]),
    ],
    targets: [
        .target(name: "LossDSL"),
        // Branch-free, vectorizable exp/log/log1p/... in C (no -ffast-math), for the closures.
        .target(name: "CLossMath", exclude: ["README.md"],
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "Codegen", dependencies: ["LossDSL", "CLossMath"]),
        .target(name: "LossSearch", dependencies: ["LossDSL", "Codegen"]),
        // Hand-written C loops, the baselines of `lossc bench closures` (same flags as CLossMath).
        .target(name: "CLossBench", dependencies: ["CLossMath"], cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .executableTarget(name: "lossc", dependencies: ["LossDSL", "Codegen", "LossSearch", "CLossMath", "CLossBench"]),
        // A Swift trainer that embeds a compiled loss (LossKernel): `swift run lossc-train --loss FILE`.
        .executableTarget(name: "lossc-train", dependencies: ["LossDSL", "Codegen"], path: "examples/SwiftTrainer"),
        .testTarget(name: "LossDSLTests", dependencies: ["LossDSL"], exclude: ["Regressions"]),
        .testTarget(name: "CodegenTests", dependencies: ["Codegen", "LossDSL"], exclude: ["Regressions"]),
        .testTarget(name: "LossSearchTests", dependencies: ["LossSearch", "LossDSL"]),
        .testTarget(name: "LosscTests", dependencies: ["LossDSL"]),
    ],
    swiftLanguageModes: [.v6]
)
