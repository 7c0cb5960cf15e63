// swift-tools-version: 6.0
// MoodDex: songs into moods, reproducing and checking a 2022 master thesis.
//
// Targets form one-way layers; each C library sits behind one thin shim target:
//   MoodCore  <-  MoodAudio (libmpg123)  <-  MoodSpectrogram (FFTW3f)
//   MoodCore  <-  MoodPlot (gnuplot through a pipe)
//   MoodCore  <-  MoodTensor (OpenBLAS)  <-  MoodTraining
//   mooddex (CLI) combines them.
import PackageDescription

let package = Package(
    name: "MoodDex",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mooddex", targets: ["mooddex"]),
        .library(name: "MoodSpectrogram", targets: ["MoodSpectrogram"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C shims
        .systemLibrary(name: "CMPG123", pkgConfig: "libmpg123",
                       providers: [.apt(["libmpg123-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3f",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),

        // Library layers
        .target(name: "MoodCore"),
        .target(name: "MoodAudio", dependencies: ["MoodCore", "CMPG123"]),
        .target(name: "MoodSpectrogram", dependencies: ["MoodCore", "MoodAudio", "CFFTW"]),
        .target(name: "MoodPlot", dependencies: ["MoodCore"]),
        .target(name: "MoodTensor", dependencies: ["MoodCore", "COpenBLAS"]),
        .target(name: "MoodTraining", dependencies: ["MoodCore", "MoodTensor"]),
        .target(name: "MoodMetrics", dependencies: ["MoodCore"]),

        // Command-line tool
        .executableTarget(
            name: "mooddex",
            dependencies: [
                "MoodCore", "MoodAudio", "MoodSpectrogram", "MoodPlot", "MoodTensor", "MoodTraining",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Tests
        .target(name: "MoodTestSupport", path: "Tests/MoodTestSupport"),
        .testTarget(name: "MoodCoreTests", dependencies: ["MoodCore"]),
        .testTarget(name: "MoodAudioTests", dependencies: ["MoodAudio", "MoodCore", "MoodTestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "MoodMetricsTests", dependencies: ["MoodMetrics", "MoodCore"]),
        .testTarget(name: "MoodTensorTests", dependencies: ["MoodTensor", "MoodTraining", "MoodCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "MoodSpectrogramTests",
                    dependencies: ["MoodSpectrogram", "MoodAudio", "MoodCore", "MoodTestSupport"],
                    resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)
