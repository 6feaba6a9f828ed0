/** Choosing and saving files with the DOM alone (a hidden file input, a download link). */

/** Let the user pick one file; null when cancelled. */
export async function pickFile(accept: string): Promise<File | null> {
  return (await pickFiles(accept, false))[0] ?? null;
}

/** Let the user pick files (several when `multiple`); none when cancelled. */
export function pickFiles(accept: string, multiple = true): Promise<File[]> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = accept;
    input.multiple = multiple;
    input.style.display = 'none';
    input.addEventListener('change', () => {
      const files = [...(input.files ?? [])];
      input.remove();
      resolve(files);
    });
    input.addEventListener('cancel', () => {
      input.remove();
      resolve([]);
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
