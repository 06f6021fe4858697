/** The categories a book can have (SPEC §7). */
export enum BookCategory {
  Romance = 'romance',
  Poetry = 'poetry',
  Politics = 'politics',
  PictureBook = 'picture book',
  Science = 'science',
  Fantasy = 'fantasy',
  Horror = 'horror',
  Thriller = 'thriller',
}
