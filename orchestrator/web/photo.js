// The photo: from the webcam (getUserMedia) or a file, its preview, and a box around every detected face.

export class PhotoPicker {
  constructor({ video, startButton, snapButton, stopButton, fileInput, clearButton, chosen, figure, image, boxes,
    faceList }, say) {
    Object.assign(this, { video, startButton, snapButton, stopButton, fileInput, clearButton, chosen, figure, image,
      boxes, faceList, say });
    this.blob = null;
    this.name = null;
    this.stream = null;
    this.previewUrl = null;
    startButton.addEventListener("click", () => this.startCamera());
    snapButton.addEventListener("click", () => this.snap());
    stopButton.addEventListener("click", () => this.stopCamera());
    fileInput.addEventListener("change", () => {
      const file = fileInput.files?.[0];
      if (file) this.use(file, file.name, "uploaded");
    });
    clearButton.addEventListener("click", () => this.clear());
  }

  static cameraAvailable() {
    return Boolean(navigator.mediaDevices?.getUserMedia);
  }

  async startCamera() {
    if (!PhotoPicker.cameraAvailable()) {
      this.say("This browser gives the page no camera (a camera needs HTTPS or localhost). Upload a photo instead.",
        "error");
      return;
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
    } catch (error) {
      const why = {
        NotAllowedError: "camera permission was refused",
        NotFoundError: "no camera was found",
        NotReadableError: "the camera is in use by another program",
      }[error?.name] ?? "the camera could not be started";
      this.say(`No camera: ${why}. Upload a photo instead.`, "error");
      return;
    }
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play().catch(() => {});
    this.snapButton.hidden = false;
    this.stopButton.hidden = false;
    this.startButton.hidden = true;
    this.snapButton.focus();
    this.say("Camera on. Press “Take photo” when ready.");
  }

  stopCamera() {
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
    this.snapButton.hidden = true;
    this.stopButton.hidden = true;
    this.startButton.hidden = false;
  }

  async snap() {
    const canvas = document.createElement("canvas");
    canvas.width = this.video.videoWidth;
    canvas.height = this.video.videoHeight;
    if (!canvas.width || !canvas.height) {
      this.say("The camera has no picture yet; try again in a moment.", "error");
      return;
    }
    canvas.getContext("2d").drawImage(this.video, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.92));
    this.stopCamera();
    this.fileInput.value = "";
    this.use(blob, "camera.jpg", "taken with the camera");
    this.startButton.focus();
  }

  use(blob, name, how) {
    this.blob = blob;
    this.name = name;
    if (this.previewUrl) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = URL.createObjectURL(blob);
    this.image.src = this.previewUrl;
    this.figure.hidden = false;
    this.clearButton.hidden = false;
    this.chosen.textContent = `Photo ${how}: ${name}.`;
    this.clearFaces();
  }

  clear() {
    this.blob = null;
    this.name = null;
    this.fileInput.value = "";
    this.figure.hidden = true;
    this.clearButton.hidden = true;
    this.chosen.textContent = "No photo chosen.";
    this.clearFaces();
    this.fileInput.focus();
  }

  clearFaces() {
    this.boxes.replaceChildren();
    this.faceList.replaceChildren();
  }

  // faces: [{box: {x, y, width, height}, top_emotion, top_score}] in the photo's pixels. Boxes are placed in
  // percent of the photo, so they follow it when the page is resized.
  async showFaces(faces) {
    this.clearFaces();
    if (!this.image.complete || !this.image.naturalWidth) {
      await new Promise((resolve) => this.image.addEventListener("load", resolve, { once: true }));
    }
    const width = this.image.naturalWidth;
    const height = this.image.naturalHeight;
    faces.forEach((face, index) => {
      const percent = `${Math.round(face.top_score * 100)}%`;
      const box = document.createElement("div");
      box.className = "face-box";
      box.dataset.faceIndex = String(index);
      box.dataset.topEmotion = face.top_emotion;
      box.dataset.topScore = String(face.top_score);
      Object.assign(box.style, {
        left: `${(face.box.x / width) * 100}%`,
        top: `${(face.box.y / height) * 100}%`,
        width: `${(face.box.width / width) * 100}%`,
        height: `${(face.box.height / height) * 100}%`,
      });
      const tag = document.createElement("span");
      tag.className = "face-tag";
      tag.textContent = `${face.top_emotion} ${percent}`;
      box.append(tag);
      this.boxes.append(box);
      const item = document.createElement("li");
      item.textContent = `Face ${index + 1}: ${face.top_emotion} (${percent} sure)`;
      this.faceList.append(item);
    });
  }
}
