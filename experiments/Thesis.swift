/// The thesis's own figures, in one place: every metric that sets ours beside the thesis's
/// takes its number from here (prose that quotes them says where they come from).
enum Thesis {
    /// 3.3.8 and 4.7: the fine-tuned ImageNet ResNet's accuracy on its validation set (55 of 70 clips).
    static let cnnAccuracy = 0.7857
    /// The validation set behind `cnnAccuracy`: 55 of 70 clips right.
    static let cnnValidationCorrect = 55
    static let cnnValidationClips = 70
    /// 3.3.9: the 10-feature Keras MLP, one 10-fold cross-validation.
    static let kerasMLPAccuracy = 0.7275
    /// 3.3.8: fastai's `accuracy_multi` on MTG-Jamendo's mood/theme tags, first 30 s.
    static let accuracyMultiFirst30 = 0.9704
    /// 3.3.8: the same, middle 30 s.
    static let accuracyMultiMiddle30 = 0.9705
    /// 4.8: success rates of its two playlists per mood, in `FourQ.moods` order (happy, sad, calm, energetic).
    static let playlistSuccess: [[Double]] = [[0.4334, 0.2273], [0.5833, 0.2513], [0.36, 0.50], [0.8214, 0.7307]]
}

/// Published figures of others that reports cite beside ours (ch3-mtg-jamendo-labels recomputes
/// these two from the released predictions and matches them exactly).
enum Published {
    /// MediaEval 2019 "Emotion and Theme Recognition", VGGish baseline on MTG-Jamendo's test split: ROC-AUC macro.
    static let vggishROCAUCMacro = 0.7258
    /// The same baseline's PR-AUC macro.
    static let vggishPRAUCMacro = 0.1077
}
