import Foundation

func fixture(_ name: String) throws -> String {
    guard let path = Bundle.module.path(forResource: name, ofType: nil, inDirectory: "Fixtures") else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
    }
    return path
}
