// swift-tools-version: 6.0
// MoodDex: songs into moods, reproducing and checking a 2022 master thesis.
//
// Targets form one-way layers (the whole graph is drawn in README.md, "What is here");
// each C library sits behind one thin shim target.
import Foundation
import PackageDescription

/// One small executable per experiment, at experiments/run/<name>/main.swift (the folders are
/// the list; a test holds them to `Catalog.experiments`).
let experimentsFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
    "experiments/run")
let experiments = ((try? FileManager.default.contentsOfDirectory(atPath: experimentsFolder.path)) ?? []).filter {
    !$0.hasPrefix(".")
}.sorted()

let package = Package(
    name: "MoodDex",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mooddex", targets: ["mooddex"])
        // The library layers, for other packages to depend on (no unsafe flags anywhere, so
        // SwiftPM accepts them as a dependency; Tests/DependentPackage builds against them).
    ]
        + [
            "MoodCore", "MoodAudio", "MoodSpectrogram", "MoodPlot", "MoodMetrics", "MoodDatasets", "MoodTensor",
            "MoodTraining", "MoodFeatures", "MoodPretrained", "MoodClassifier", "MoodNotebook", "MoodFetch",
        ].map {
            .library(name: $0, targets: [$0])
        },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // `swift package generate-documentation` (DocC) for the library targets; scripts/docs.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C shims
        .systemLibrary(
            name: "CMPG123", pkgConfig: "libmpg123",
            providers: [.apt(["libmpg123-dev"])]),
        .systemLibrary(
            name: "CFFTW", pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        // oneDNN (libdnnl-dev, an OpenMP build) for the opt-in inference convolution; libgomp for its thread count.
        .target(
            name: "CDNNL",
            linkerSettings: [.linkedLibrary("dnnl"), .linkedLibrary("gomp")]),
        // Our own deterministic AVX2/FMA and AVX-512 matrix product (C).
        .target(name: "CKernels"),
        .systemLibrary(
            name: "CVorbis", pkgConfig: "vorbisfile",
            providers: [.apt(["libvorbis-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive",
            providers: [.apt(["libarchive-dev"])]),

        // Library layers
        .target(name: "MoodCore", dependencies: ["CCrypto"]),
        .target(name: "MoodAudio", dependencies: ["MoodCore", "CMPG123", "CVorbis"]),
        .target(name: "MoodSpectrogram", dependencies: ["MoodCore", "MoodAudio", "CFFTW"]),
        .target(name: "MoodPlot", dependencies: ["MoodCore"]),
        .target(name: "MoodTensor", dependencies: ["MoodCore", "COpenBLAS", "CKernels", "CDNNL"]),
        .target(name: "MoodTraining", dependencies: ["MoodCore", "MoodTensor"]),
        .target(
            name: "MoodPretrained",
            dependencies: ["MoodCore", "MoodAudio", "MoodSpectrogram", "MoodTensor", "MoodTraining"]),
        .target(name: "MoodMetrics", dependencies: ["MoodCore"]),
        .target(name: "MoodDatasets", dependencies: ["MoodCore"]),
        .target(name: "MoodFeatures", dependencies: ["MoodCore", "MoodSpectrogram", "MoodTensor", "MoodTraining"]),
        .target(name: "MoodFetch", dependencies: ["MoodCore", "CCurl", "CArchive"]),
        .target(
            name: "MoodClassifier",
            dependencies: [
                "MoodCore", "MoodAudio", "MoodSpectrogram", "MoodTensor", "MoodTraining", "MoodDatasets",
                "MoodFeatures", "MoodPretrained",
            ]),
        .target(name: "MoodNotebook", dependencies: ["MoodCore"]),

        // Experiments: the chapters, written literately, and one small executable each.
        .target(
            name: "MoodExperiments",
            dependencies: [
                "MoodCore", "MoodAudio", "MoodSpectrogram", "MoodPlot", "MoodTensor", "MoodTraining",
                "MoodMetrics", "MoodDatasets", "MoodFeatures", "MoodNotebook", "MoodClassifier", "MoodPretrained",
            ],
            path: "experiments", exclude: ["run", "expectations.json"],
            resources: [
                .copy("ch3-keras-comparison/sklearn-reference.json"),
                .copy("ch3-four-moods/musicnn-embedding-reference.json"),
            ]),
        // The arguments `mooddex run` and every chapter's own executable parse alike.
        .target(
            name: "MoodCommandLine",
            dependencies: [
                "MoodCore", "MoodNotebook",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Command-line tool
        .executableTarget(
            name: "mooddex",
            dependencies: [
                "MoodCore", "MoodAudio", "MoodSpectrogram", "MoodPlot", "MoodTensor", "MoodTraining",
                "MoodDatasets", "MoodFeatures", "MoodMetrics", "MoodNotebook", "MoodExperiments", "MoodFetch",
                "MoodClassifier",
                "MoodPretrained", "MoodCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests
        .target(name: "MoodTestSupport", path: "Tests/MoodTestSupport"),
        .testTarget(name: "MoodCoreTests", dependencies: ["MoodCore"]),
        .testTarget(
            name: "MoodAudioTests", dependencies: ["MoodAudio", "MoodCore", "MoodTestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MoodClassifierTests",
            dependencies: [
                "MoodClassifier", "MoodCore", "MoodSpectrogram", "MoodTensor", "MoodPretrained",
                "MoodDatasets", "MoodTraining", "MoodTestSupport",
            ]),
        .testTarget(
            name: "MoodDatasetsTests", dependencies: ["MoodDatasets", "MoodFeatures", "MoodCore", "MoodTestSupport"]),
        .testTarget(name: "MoodFetchTests", dependencies: ["MoodFetch", "MoodCore"]),
        .testTarget(name: "MoodMetricsTests", dependencies: ["MoodMetrics", "MoodCore"]),
        .testTarget(
            name: "MoodPretrainedTests",
            dependencies: ["MoodPretrained", "MoodCore", "MoodTensor", "MoodSpectrogram", "MoodAudio"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MoodNotebookTests", dependencies: ["MoodNotebook", "MoodCore", "MoodExperiments"],
            resources: [.copy("Snapshots")]),
        .testTarget(
            name: "MoodTensorTests", dependencies: ["MoodTensor", "MoodTraining", "MoodCore"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "MoodSpectrogramTests",
            dependencies: ["MoodSpectrogram", "MoodAudio", "MoodCore", "MoodTestSupport"],
            resources: [.copy("Fixtures")]),
    ]
        + experiments.map { name in
            .executableTarget(
                name: name, dependencies: ["MoodExperiments", "MoodCommandLine"], path: "experiments/run/\(name)")
        },
    swiftLanguageModes: [.v5]
)
