/** Errors of the console's own (the API's errors reach the console as answers and are shown as they are). */
import { ApiError } from '../errors';

/** A form posted from another site, or by a client that says nothing of where it comes from (CSRF). */
export class ForbiddenOriginError extends ApiError {
  override readonly status = 403;
  override readonly code = 'forbidden_origin';
  constructor(origin: string) {
    super(
      `a console form may only be posted from the console's own pages (Origin ${origin}); open the console and submit the form there`,
      { origin },
    );
  }
}

/** A console action that names something the console does not pass on. */
export class UnknownActionError extends ApiError {
  override readonly status = 400;
  override readonly code = 'invalid_input';
  constructor(method: string, path: string) {
    super(
      `the console passes on POST, PATCH and DELETE to /v1/ routes only, not ${method} ${path}; use the console's own forms`,
      { method, path },
    );
  }
}
