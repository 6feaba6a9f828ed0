/** Choosing and saving files with the DOM alone (a hidden file input, a download link). */

/** Let the user pick one file; null when cancelled. */
export function pickFile(accept: string): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.style.display = 'none';
    input.addEventListener('change', () => {
      const file = input.files?.[0] ?? null;
      input.remove();
      resolve(file);
    });
    input.addEventListener('cancel', () => {
      input.remove();
      resolve(null);
    });
    document.body.appendChild(input);
    input.click();
  });
}

/** Offer text as a download named `name`. */
export function downloadText(name: string, text: string, type: string): { name: string } {
  return downloadBlob(name, new Blob([text], { type }));
}

/** Offer bytes (a model, a zip) as a download named `name`. */
export function downloadBytes(name: string, bytes: Uint8Array, type: string): { name: string } {
  return downloadBlob(name, new Blob([bytes as BlobPart], { type }));
}

function downloadBlob(name: string, blob: Blob): { name: string } {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoke later: the download may still be reading the blob.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name };
}
