import { formatBytes, formatMs } from '../logic/format.js';
import { predictionView } from '../logic/prediction-bars.js';
import { callApi, errorMessage, fetchBlob } from './api-client.js';
import { byId, element } from './dom.js';

interface ModelRow {
  readonly name: string;
  readonly version: string;
  readonly state: string;
  readonly takesImages: boolean;
}

/** The "Try a model" view: pick a model and an image, see the top classes, the latencies and the JSON. */
export class TryView {
  private readonly form = byId('try-form', HTMLFormElement);
  private readonly model = byId('model', HTMLSelectElement);
  private readonly topK = byId('top-k', HTMLInputElement);
  private readonly file = byId('file', HTMLInputElement);
  private readonly drop = byId('drop', HTMLDivElement);
  private readonly sample = byId('sample', HTMLSelectElement);
  private readonly classify = byId('classify', HTMLButtonElement);
  private readonly preview = byId('preview', HTMLImageElement);
  private readonly previewFigure = byId('preview-figure', HTMLElement);
  private readonly previewCaption = byId('preview-caption', HTMLElement);
  private readonly status = byId('status', HTMLParagraphElement);
  private readonly error = byId('error', HTMLParagraphElement);
  private readonly bars = byId('bars', HTMLOListElement);
  private readonly latency = byId('latency', HTMLParagraphElement);
  private readonly raw = byId('raw', HTMLPreElement);
  private image: { readonly blob: Blob; readonly name: string } | undefined;
  private previewUrl: string | undefined;
  /** Answers can arrive out of order when the user clicks fast; only the newest request may draw. */
  private generation = 0;

  constructor() {
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run();
    });
    this.file.addEventListener('change', () => {
      const chosen = this.file.files?.[0];
      if (chosen !== undefined) this.useImage(chosen, chosen.name);
    });
    // Another model or another k re-classifies the same image: one photo, compared across models.
    for (const control of [this.model, this.topK]) {
      control.addEventListener('change', () => {
        if (this.image !== undefined) void this.run();
      });
    }
    this.sample.addEventListener('change', () => void this.useSample(this.sample.value));
    // Not every upload is an image the browser can show (a text file, TIFF): say so instead of a broken icon.
    this.preview.addEventListener('error', () => {
      if (this.image === undefined || this.preview.src === '') return;
      this.preview.hidden = true;
      this.previewCaption.textContent = `${this.image.name} · ${formatBytes(this.image.blob.size)} (the browser cannot show this file)`;
    });
    for (const type of ['dragenter', 'dragover'] as const) {
      this.drop.addEventListener(type, (event) => {
        event.preventDefault();
        this.drop.classList.add('dragging');
      });
    }
    for (const type of ['dragleave', 'drop'] as const)
      this.drop.addEventListener(type, () => this.drop.classList.remove('dragging'));
    this.drop.addEventListener('drop', (event) => {
      event.preventDefault();
      const dropped = event.dataTransfer?.files[0];
      if (dropped !== undefined) this.useImage(dropped, dropped.name);
    });
  }

  /** Fills the model and sample pickers; keeps the chosen model when it is still there. */
  async load(): Promise<void> {
    try {
      await this.loadPickers();
    } catch (error) {
      this.showError(`cannot reach the server: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private async loadPickers(): Promise<void> {
    const models = await callApi('/ui/api/models');
    if (models.status !== 200) {
      this.showError(errorMessage(models));
      if (models.status === 401) byId('token-box', HTMLDetailsElement).open = true;
      return;
    }
    this.error.hidden = true;
    this.status.textContent = 'Choose a model and an image.';
    const { models: rows, server } = models.body as { models: ModelRow[]; server: { version: string } };
    byId('server-version', HTMLSpanElement).textContent = server.version;
    const previous = this.model.value;
    this.model.replaceChildren(
      ...rows.map((m) => {
        const value = m.name;
        const note = m.state !== 'ready' ? ` (${m.state})` : m.takesImages ? '' : ' (not an image model)';
        return element('option', {
          text: `${m.name}${rows.filter((r) => r.name === m.name).length > 1 ? ` v${m.version}` : ''}${note}`,
          attrs: { value, ...(m.state === 'ready' && m.takesImages ? {} : { disabled: '' }) },
        });
      }),
    );
    const usable =
      rows.find((m) => m.name === previous && m.state === 'ready') ??
      rows.find((m) => m.state === 'ready' && m.takesImages);
    if (usable !== undefined) this.model.value = usable.name;
    this.updateButton();

    const samples = await callApi('/ui/api/samples');
    const list =
      samples.status === 200 ? (samples.body as { samples: { name: string; bytes: number }[] }).samples : [];
    byId('sample-field', HTMLDivElement).hidden = list.length === 0;
    this.sample.replaceChildren(
      element('option', { text: 'Choose a sample…', attrs: { value: '' } }),
      ...list.map((s) =>
        element('option', { text: `${s.name} (${formatBytes(s.bytes)})`, attrs: { value: s.name } }),
      ),
    );
  }

  private async useSample(name: string): Promise<void> {
    if (name === '') return;
    try {
      this.useImage(await fetchBlob(`/ui/api/samples/${encodeURIComponent(name)}`), name);
    } catch (error) {
      this.showError(`cannot load the sample: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private useImage(blob: Blob, name: string): void {
    this.image = { blob, name };
    if (this.previewUrl !== undefined) URL.revokeObjectURL(this.previewUrl);
    this.previewUrl = URL.createObjectURL(blob);
    this.preview.hidden = false;
    this.preview.src = this.previewUrl;
    this.preview.alt = `The image to classify: ${name}`;
    this.previewCaption.textContent = `${name} · ${formatBytes(blob.size)}`;
    this.previewFigure.hidden = false;
    this.updateButton();
    void this.run();
  }

  private updateButton(): void {
    this.classify.disabled = this.image === undefined || this.model.value === '';
  }

  /** Sends the image as the multipart field "image", exactly as `curl -F image=@file` does. */
  private async run(): Promise<void> {
    const image = this.image;
    if (image === undefined || this.model.value === '') return;
    const generation = ++this.generation;
    const form = new FormData();
    form.append('image', image.blob, image.name);
    const topK = Math.min(20, Math.max(1, Math.round(Number(this.topK.value) || 5)));
    const query = new URLSearchParams({ model: this.model.value, top_k: String(topK) });
    this.status.textContent = `Classifying ${image.name} with ${this.model.value}…`;
    this.error.hidden = true;
    this.classify.disabled = true;
    try {
      const answer = await callApi(`/predict?${query.toString()}`, { method: 'POST', body: form });
      if (generation !== this.generation) return;
      this.raw.textContent =
        typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2);
      this.latency.textContent = `Round trip ${formatMs(answer.roundTripMs)} · in the server ${formatMs(answer.serverMs)}`;
      const view = predictionView(answer.status, answer.body);
      if (view.kind === 'error') {
        this.bars.replaceChildren();
        this.showError(answer.status === 401 ? errorMessage(answer) : view.message);
        return;
      }
      this.bars.replaceChildren(
        ...view.bars.map((bar) => {
          const fill = element('span', { className: 'fill' });
          fill.style.width = `${bar.widthPercent}%`;
          return element(
            'li',
            {},
            element('span', { className: 'label', text: bar.label }),
            element('span', { className: 'track', attrs: { 'aria-hidden': 'true' } }, fill),
            element('span', { className: 'pct', text: bar.percentText }),
          );
        }),
      );
      const top = view.bars[0];
      this.status.textContent =
        top === undefined
          ? 'The model answered with no classes.'
          : `${this.model.value}: ${top.label}, ${top.percentText}.`;
    } catch (error) {
      if (generation === this.generation)
        this.showError(`the request failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (generation === this.generation) this.updateButton();
    }
  }

  private showError(message: string): void {
    this.status.textContent = 'No result.';
    this.error.textContent = message;
    this.error.hidden = false;
  }
}
