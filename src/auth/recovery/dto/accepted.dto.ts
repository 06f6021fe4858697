/** The one answer of requests whose outcome must not reveal whether an account exists. */
export class AcceptedDto {
  /** The same text whatever happened. */
  message!: string;
}
