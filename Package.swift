// swift-tools-version:6.0
import PackageDescription

// lossc has no package dependencies: only the Swift toolchain and the system C compiler.
let package = Package(
    name: "lossc",
    products: [
        .library(name: "LossDSL", targets: ["LossDSL"]),
        .library(name: "LossCheck", targets: ["LossCheck"]),
        .library(name: "LossRanking", targets: ["LossRanking"]),
        .library(name: "Codegen", targets: ["Codegen"]),
        .library(name: "LossSearch", targets: ["LossSearch"]),
        .library(name: "LossTesting", targets: ["LossTesting"]),
        .library(name: "LosscCLI", targets: ["LosscCLI"]),
        .executable(name: "lossc", targets: ["lossc"]),
    ],
    targets: [
        // The language: operators, syntax, graph, lowering, passes, autodiff, reference evaluation.
        .target(name: "LossDSL"),
        // Is it a sane loss? Stage 1 (interval proofs) and stage 2 (proxy training).
        .target(name: "LossCheck", dependencies: ["LossDSL"]),
        // Ranking losses: pair analysis, the O(n log n) plan and kernel, the brute-force reference.
        .target(name: "LossRanking", dependencies: ["LossDSL"]),
        // Branch-free, vectorizable exp/log/log1p/... in C (no -ffast-math), for the closures.
        .target(name: "CLossMath", exclude: ["README.md"],
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        .target(name: "Codegen", dependencies: ["LossDSL", "LossRanking", "CLossMath"]),
        // Both searches: the evolutionary one (Evolution/) and the ranking params' (ParamSearch/).
        .target(name: "LossSearch", dependencies: ["LossDSL", "LossCheck", "LossRanking", "Codegen"]),
        // Random formulas' fuzzer and the shrinker: used by tests and `lossc bench fuzz`.
        .target(name: "LossTesting", dependencies: ["LossDSL"]),
        // Hand-written C loops, the baselines of `lossc bench closures` (same flags as CLossMath).
        .target(name: "CLossBench", dependencies: ["CLossMath"], cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        // The subcommands (Commands/), `lossc bench` (Bench/) and their parsing and I/O (Support/).
        .target(name: "LosscCLI", dependencies: ["LossDSL", "LossCheck", "LossRanking", "Codegen", "LossSearch", "LossTesting", "CLossMath", "CLossBench"]),
        // `lossc` itself: main.swift calls LosscCLI.main().
        .executableTarget(name: "lossc", dependencies: ["LosscCLI"]),
        // A Swift trainer that embeds a compiled loss (LossKernel): `swift run lossc-train --loss FILE`.
        .executableTarget(name: "lossc-train", dependencies: ["LossDSL", "Codegen"], path: "examples/SwiftTrainer"),
        // Helpers shared by the test targets (compile, close, finite differences, the ranking oracles).
        .target(name: "LossTestSupport", dependencies: ["LossDSL"], path: "Tests/LossTestSupport"),
        .testTarget(name: "LossDSLTests", dependencies: ["LossDSL", "LossTesting", "LossTestSupport"], exclude: ["Regressions"]),
        .testTarget(name: "LossCheckTests", dependencies: ["LossCheck", "LossDSL", "LossTestSupport"]),
        .testTarget(name: "LossRankingTests", dependencies: ["LossRanking", "LossDSL", "LossTestSupport"]),
        .testTarget(name: "CodegenTests", dependencies: ["Codegen", "LossDSL", "LossRanking", "LossTesting"], exclude: ["Regressions"]),
        .testTarget(name: "LossSearchTests", dependencies: ["LossSearch", "LossDSL", "LossRanking", "LossCheck", "LossTestSupport"]),
        .testTarget(name: "LossTestingTests", dependencies: ["LossTesting", "LossDSL", "LossTestSupport"]),
        .testTarget(name: "LosscTests", dependencies: ["LossDSL", "LosscCLI"]),
    ],
    swiftLanguageModes: [.v6]
)
